import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateTokenDto } from '../../../src/tokens/dto/create-token.dto';

/** The global ValidationPipe's options, applied to the DTO alone. */
async function problems(body: object): Promise<string[]> {
  const dto = plainToInstance(CreateTokenDto, body);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  return errors.flatMap((e) => Object.values(e.constraints ?? {}));
}

describe('CreateTokenDto', () => {
  it('accepts a name, a future expiry and providers', async () => {
    const future = new Date(Date.now() + 86400_000).toISOString();
    expect(await problems({ name: 'ci', expiresAt: future, providers: ['cerebras'] })).toEqual([]);
    expect(await problems({ name: 'ci' })).toEqual([]);
  });

  it('names the field that is wrong', async () => {
    expect(await problems({ name: 'ci', expiresAt: '2000-01-01T00:00:00Z' })).toEqual([
      'expiresAt must be a date-time in the future',
    ]);
    expect(await problems({ name: 'ci', expiresAt: 'tomorrow' })).toEqual(
      expect.arrayContaining(['expiresAt must be an ISO 8601 date-time']),
    );
    expect(await problems({ name: '  ' })).toEqual(['name must not be empty']);
    expect(await problems({})).toEqual(expect.arrayContaining(['name must not be empty']));
    expect(await problems({ name: 'x'.repeat(101) })).toEqual([
      'name must be shorter than or equal to 100 characters',
    ]);
    expect(await problems({ name: 'ci', providers: [] })).toEqual([
      'providers must list at least one provider id, or be omitted',
    ]);
    expect(await problems({ name: 'ci', providers: 'cerebras' })).toEqual(
      expect.arrayContaining(['providers must be an array']),
    );
    expect(await problems({ name: 'ci', token: 'byok_mine' })).toEqual([
      'property token should not exist',
    ]);
  });
});
