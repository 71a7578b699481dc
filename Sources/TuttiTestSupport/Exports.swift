/// Tests use the harness's process tools (``ChildProcess``) directly.
@_exported import TuttiHarness
