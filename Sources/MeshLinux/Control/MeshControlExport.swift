// The control socket's client lives in its own module so that smegctl links it without the
// drivers (and the Foundation they use); MeshLinux's users see it as before.
@_exported import MeshControl
