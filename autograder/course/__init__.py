"""Building the course: the notebooks from the masters, the example submissions, the demo."""
