"""In-repo fakes of the platforms and providers imaginebot talks to, served on 127.0.0.1."""
