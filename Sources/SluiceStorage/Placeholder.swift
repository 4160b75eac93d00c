// SluiceStorage: placeholder until the module lands.
