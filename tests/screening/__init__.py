"""Tests of the screening matching core."""
