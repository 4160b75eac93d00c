// SluiceMaster: placeholder until the module lands.
