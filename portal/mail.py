"""The development e-mail backend: messages are kept in the database, shown at /dev/outbox/."""

from django.core.mail.backends.base import BaseEmailBackend


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from portal.models import OutboxEmail

        for message in email_messages:
            alternatives = getattr(message, "alternatives", [])
            html = next((content for content, mimetype in alternatives if mimetype == "text/html"), "")
            OutboxEmail.objects.create(
                from_email=message.from_email,
                to=", ".join(message.recipients()),
                subject=message.subject,
                body_text=message.body,
                body_html=html,
            )
        return len(email_messages)
