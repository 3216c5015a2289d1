"""Third-party and social-organisation assessments (R3.6, R3.7); docs/appraisal.md."""
