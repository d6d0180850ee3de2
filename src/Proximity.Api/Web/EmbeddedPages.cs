using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Proximity.Api.Web;

/// <summary>Serves the pages and vendored libraries embedded in this assembly (wwwroot/**) at <c>/</c>.</summary>
public static class EmbeddedPages
{
    private const string Prefix = "wwwroot/";
    private static readonly Assembly Assembly = typeof(EmbeddedPages).Assembly;
    private static readonly FileExtensionContentTypeProvider Types = new();
    private static readonly Lazy<Dictionary<string, byte[]>> Files = new(Load);

    public static IReadOnlyCollection<string> Paths => Files.Value.Keys;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => Serve(http, "index.html")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/{**path}", (string path, HttpContext http) => Serve(http, path)).AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext http, string path)
    {
        if (path.StartsWith("api/", StringComparison.Ordinal) || !Files.Value.TryGetValue(path, out var bytes))
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"'/{path}' does not exist.");
        if (!Types.TryGetContentType(path, out var type)) type = "application/octet-stream";
        if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal)) type += "; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Bytes(bytes, type);
    }

    private static Dictionary<string, byte[]> Load()
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in Assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            using var stream = Assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..].Replace('\\', '/')] = copy.ToArray();
        }
        return files;
    }
}
