"""Turning a spec into steps for the C executor, and running them in a child."""
