"""The closed loop: canary analysis that promotes or rolls back, and loops that retrain from production."""
