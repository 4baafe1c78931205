"""skel."""
