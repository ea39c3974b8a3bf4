"""The trained models (plain arrays and model cards), shipped as package data."""
