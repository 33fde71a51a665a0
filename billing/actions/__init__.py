"""Workflow actions that move money through billing; registered with automation in
billing/apps.py."""
