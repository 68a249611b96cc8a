"""Database: tables, engine and repository functions."""
