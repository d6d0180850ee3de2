namespace Proximity.Api;

/// <summary>Section <c>Proximity:Map</c> (tiles) and API timing; all optional.</summary>
public sealed class ProximityApiOptions
{
    /// <summary>Leaflet tile URL template (<c>https://tile.example/{z}/{x}/{y}.png</c>); empty: plain background.</summary>
    public string? TileUrl { get; set; }
    public string? TileAttribution { get; set; }
    /// <summary>Monitoring counts as live while the last fix is at most this old.</summary>
    public TimeSpan LiveWindow { get; set; } = TimeSpan.FromMinutes(5);
}
