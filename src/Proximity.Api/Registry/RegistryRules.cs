using System.Security.Cryptography;
using Proximity.Api.Problems;

namespace Proximity.Api.Registry;

/// <summary>What both registries (<see cref="InMemoryRegistry"/>, <see cref="Storage.PostgresRegistry"/>) require before storing a change.</summary>
public static class RegistryRules
{
    public static void CheckId(string? id, string what)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw ApiProblemException.Invalid($"a {what} id must be 1–64 characters of letters, digits, '-', '_' or '.'; got '{id}'.");
    }

    /// <summary>An offender or victim: an id, a name and, when given, places on the earth.</summary>
    public static void CheckPerson(string? id, string what, string? name, Place? home, Place? work)
    {
        CheckId(id, what);
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200) throw ApiProblemException.Invalid("name is required (at most 200 characters).");
        CheckPlace(home, "home");
        CheckPlace(work, "work");
    }

    public static void CheckKind(DeviceKind kind)
    {
        if (!Enum.IsDefined(kind)) throw ApiProblemException.Invalid("kind must be AnkleMonitor or VictimDevice.");
    }

    /// <summary>A device that is still in use; a retired one takes no more changes.</summary>
    public static Device Active(Device? device, string id)
    {
        if (device is null) throw ApiProblemException.NotFound("device", id);
        if (device.Status == DeviceStatus.Retired) throw ApiProblemException.Conflict($"device '{id}' is retired.");
        return device;
    }

    /// <summary>An ankle monitor goes to an offender, a victim device to a victim.</summary>
    public static void CheckAssignment(Device device, string personId, bool isOffender, bool isVictim)
    {
        if (!isOffender && !isVictim) throw ApiProblemException.NotFound("person", personId);
        if (device.Kind == DeviceKind.AnkleMonitor && !isOffender)
            throw ApiProblemException.Invalid($"an ankle monitor can only be assigned to an offender; '{personId}' is a victim.");
        if (device.Kind == DeviceKind.VictimDevice && !isVictim)
            throw ApiProblemException.Invalid($"a victim device can only be assigned to a victim; '{personId}' is an offender.");
    }

    public static void CheckFirstVersion(BanRecord version1)
    {
        CheckId(version1.Id, "ban");
        if (version1.Version != 1) throw ApiProblemException.Invalid("a new ban starts at version 1.");
    }

    /// <summary><paramref name="next"/> must be exactly one newer than <paramref name="last"/>, of the same type, of a ban still in force.</summary>
    public static void CheckNextVersion(BanRecord last, BanRecord next)
    {
        if (last.Status == BanStatus.Ended) throw ApiProblemException.Conflict($"ban '{next.Id}' has ended; draft a new ban instead.");
        if (next.Version != last.Version + 1)
            throw ApiProblemException.Conflict($"ban '{next.Id}' is at version {last.Version}; version {next.Version} cannot follow it.");
        if (next.Type != last.Type) throw ApiProblemException.Invalid($"a ban's type cannot change (it is {last.Type}); end it and draft a new one.");
    }

    public static void CheckBanPeople(BanRecord ban, bool offenderKnown, bool victimKnown)
    {
        if (!offenderKnown) throw ApiProblemException.Invalid($"offender '{ban.OffenderId}' is not registered.");
        if (ban.VictimId is { } v && !victimKnown) throw ApiProblemException.Invalid($"victim '{v}' is not registered.");
    }

    /// <summary>A device secret: 24 random bytes, URL-safe base64.</summary>
    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    private static void CheckPlace(Place? place, string what)
    {
        if (place is null) return;
        if (new Spatial.Geodesy.GeoPoint(place.Latitude, place.Longitude).Problem() is { } p)
            throw ApiProblemException.Invalid($"{what}: {p}.");
    }
}
