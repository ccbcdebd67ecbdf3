"""What confines a student's kernel: the sandbox it runs in, the isolation this host allows (measured), and how a
worker and its kernels end together."""
