"""The async lab: endpoints that show when async pays off, and when it does not."""
