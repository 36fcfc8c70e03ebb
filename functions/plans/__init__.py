"""Preset plan files (one TOML file per county plan), shipped as package data."""
