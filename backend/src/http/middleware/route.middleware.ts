import type { NextFunction, Request, Response } from 'express';
import { setHttpRoute } from '../../telemetry';

/** The template of the route a request matched: `/api/sessions/:sessionId`. */
export function routeTemplate(req: Request): string | undefined {
  if (!req.route) return undefined;
  const path = String(req.route.path);
  return path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl}${path}`;
}

/**
 * First middleware of every route: records the matched route template for the server
 * span (`http.route`, and its name `GET /api/sessions/:sessionId`) and the access log,
 * before anything can refuse the request.
 */
export function recordRoute() {
  return function recordRouteMiddleware(req: Request, res: Response, next: NextFunction): void {
    const route = routeTemplate(req);
    if (route !== undefined) {
      res.locals.route = route;
      setHttpRoute(route);
    }
    next();
  };
}
