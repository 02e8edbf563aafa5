"""The front ends: one package or module per channel, each translating its protocol to
Service calls and rendered answers. No channel imports another."""
