"""stagesync: git and Terraform for BigCommerce store data."""

__version__ = "0.1.0"
