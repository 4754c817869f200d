"""Push notifications to the citizens' app."""
