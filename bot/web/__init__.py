"""The web gallery: each server's, group's and direct chat's pictures, opened by signed link."""
