# A fake third marketplace ("fakemart"): spec, connector and simulator, registered only by the test that uses it.
