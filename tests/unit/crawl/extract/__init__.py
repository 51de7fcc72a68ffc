"""Tests of the extraction layer, one module per format."""
