// SluiceWorker: placeholder until the module lands.
