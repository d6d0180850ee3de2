using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

/// <summary>What a victim's device says. Advice only: never where the offender is.</summary>
public static class VictimAdvice
{
    public const string Danger =
        "The person you are protected from may be very close. Go to a safe place now and call 112 if you feel threatened. The control room has been alerted.";
    public const string Warning =
        "The person you are protected from may be approaching. Stay alert, keep your device with you and stay near other people.";
    public const string OffenderUnmonitored =
        "Monitoring is limited at the moment: the other party's device is not reporting. The control room knows. Stay alert.";
    public const string OwnDeviceSilent =
        "Your device is not giving a position, so protection is limited. Go outside or near a window and check that location is on.";
    public const string Restored = "Monitoring works normally again.";

    public static VictimNotice? ForRaised(Alert alert, DateTimeOffset now) => alert.Type switch
    {
        AlertType.ContactBanBreach => new VictimNotice(NoticeLevel.Danger, Danger, alert.Id, now),
        AlertType.ProximityWarning when alert.VictimId is not null => new VictimNotice(NoticeLevel.Warning, Warning, alert.Id, now),
        _ => null,
    };
}
