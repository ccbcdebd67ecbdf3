"""What was handed in: unpacking an LMS download, the survey of submissions, student ids and times, shards."""
