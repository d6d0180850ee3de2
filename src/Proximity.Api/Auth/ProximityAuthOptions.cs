namespace Proximity.Api.Auth;

/// <summary>Section <c>Proximity:Auth</c>.</summary>
public sealed class ProximityAuthOptions
{
    public const string Section = "Proximity:Auth";
    public const string Issuer = "proximity";
    public const string Audience = "proximity-api";

    /// <summary>
    /// Accepted only when the host runs in the Development environment, so a forgotten setting in production
    /// fails at start instead of accepting tokens anyone can mint from the source code.
    /// </summary>
    public const string DevelopmentSigningKey = "proximity-development-signing-key-not-for-production-use";

    /// <summary>HMAC-SHA256 key (at least 32 characters) for tokens minted by <c>proximity token</c>.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OpenID Connect authority (production identity provider); its tokens are accepted too.</summary>
    public string? Authority { get; set; }

    /// <summary>Audience expected in tokens of the authority.</summary>
    public string? AuthorityAudience { get; set; }

    /// <summary>The key in force: the configured one, or the development key in Development; null when none.</summary>
    public string? EffectiveSigningKey(bool isDevelopment) =>
        !string.IsNullOrEmpty(SigningKey) ? SigningKey : isDevelopment ? DevelopmentSigningKey : null;
}
