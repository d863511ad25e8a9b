"""Tests that keep the operators' documentation in docs/ true."""
