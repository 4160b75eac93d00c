// SluiceNet: placeholder until the module lands.
