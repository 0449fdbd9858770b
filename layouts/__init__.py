"""Screen profiles as data: canvas size, orientation, panels and their places, rotation and refresh cadence."""
