"""What goes out: the platform-free `Message` and the builders that make one from domain objects."""
