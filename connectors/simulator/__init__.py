"""Local, stateful Shopee and TikTok Shop servers that verify requests as the platforms do (connector issue)."""
