namespace Proximity.Spatial.Zones;

/// <summary>A zone geometry that cannot be enforced, with a message that names the problem.</summary>
public sealed class InvalidZoneException(string message) : Exception(message);
