"""The Telegram channel: PTB's Bot as the API client, our own journaling ingress, a renderer."""
