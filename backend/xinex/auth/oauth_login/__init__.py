"""OAuth/OpenID Connect login with Google, GitHub, Microsoft and Apple (Authlib + joserfc)."""
