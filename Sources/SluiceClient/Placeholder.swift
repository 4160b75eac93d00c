// SluiceClient: placeholder until the module lands.
