"""The job-event API (B1 reported jobs, G1): keys, signatures, events and what they change.

The HTTP door is bot/api_http.py; everything it decides is decided here.
"""
