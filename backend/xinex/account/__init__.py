"""The account surface: data export, onboarding steps, the operator's public brand."""
