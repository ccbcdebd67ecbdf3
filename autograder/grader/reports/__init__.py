"""What people read, written from the records: feedback pages, grades.csv, the summary, the class pages."""
