"""Solutions for chapter 04. Try the exercises first: the notebook's check gives hints."""
