"""Code every model may build on: the Generator protocol (base), layer stacks and losses (blocks), and the
bases shared by a family of models (autoencoding: ae, conv_ae; adversarial: gan, dcgan)."""
