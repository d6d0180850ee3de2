using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Proximity.Api.Auth;

/// <summary>Mints and describes the locally signed tokens (development and integration use).</summary>
public static class DevTokens
{
    public const int MinKeyLength = 32;

    public static SymmetricSecurityKey Key(string signingKey)
    {
        if (signingKey.Length < MinKeyLength)
            throw new ArgumentException($"the signing key must be at least {MinKeyLength} characters (HMAC-SHA256)");
        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey));
    }

    public static string Mint(string role, string user, string signingKey, TimeSpan lifetime, TimeProvider? clock = null)
    {
        if (!Roles.IsKnown(role))
            throw new ArgumentException($"unknown role '{role}' (roles: {string.Join(", ", Roles.All)})");
        if (string.IsNullOrWhiteSpace(user)) throw new ArgumentException("the user name must not be empty");
        if (lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(30))
            throw new ArgumentException("the lifetime must be between 0 and 30 days");
        var now = (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = ProximityAuthOptions.Issuer,
            Audience = ProximityAuthOptions.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", user), new Claim("name", user), new Claim("role", role)]),
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(Key(signingKey), SecurityAlgorithms.HmacSha256),
        });
    }
}
