using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Proximity.Api.Problems;

/// <summary>A refusal with an HTTP status, written as RFC 9457 problem details.</summary>
public sealed class ApiProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static ApiProblemException NotFound(string what, string id) => new(StatusCodes.Status404NotFound, "Not found", $"{what} '{id}' does not exist.");
    public static ApiProblemException Invalid(string detail) => new(StatusCodes.Status400BadRequest, "Invalid request", detail);
    public static ApiProblemException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);
    public static ApiProblemException Forbidden(string detail) => new(StatusCodes.Status403Forbidden, "Forbidden", detail);
    public static ApiProblemException Unavailable(string detail) => new(StatusCodes.Status503ServiceUnavailable, "Unavailable", detail);
}

/// <summary>Turns <see cref="ApiProblemException"/> and unreadable request bodies into problem details; the rest is a 500.</summary>
public sealed class ApiProblemHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            ApiProblemException p => (p.Status, p.Title, p.Message),
            BadHttpRequestException b => (b.StatusCode, "Invalid request", b.InnerException?.Message ?? b.Message),
            _ => (StatusCodes.Status500InternalServerError, "Internal error", "The server failed; the error is logged."),
        };
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
