"""Click commands that live outside ``kneeload.cli``; registered there."""
