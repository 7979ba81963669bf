"""Customers part 2: the timeline (interactions and their legacy bridges) and auxiliary customer resources."""
