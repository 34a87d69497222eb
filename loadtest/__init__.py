"""Load tests with Locust: a registration surge, wave joining and purchases (README, "Load test")."""
