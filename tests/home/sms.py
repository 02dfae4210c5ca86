"""A stand-in for a deployment's own channel (SMS, WeCom, DingTalk): configured, never imported by the callers."""

from home.channels import Channel


class FakeSmsChannel(Channel):
    name = "sms"
    sent: list = []

    def deliver(self, messages):
        self.sent.extend(messages)
        return len(messages)
