// SluiceCompression: placeholder until the module lands.
