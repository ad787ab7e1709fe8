"""Demo catalog: real open data with attribution plus clearly labelled generated district data."""
