const fetchClientToken = async () => {
  const url = 'https://apx.didit.me/auth/v2/token/';
  const clientID = process.env.DIDIT_CLIENT_ID;
  const clientSecret = process.env.DIDIT_CLIENT_SECRET;
 
  const encodedCredentials = Buffer.from(
    `${clientID}:${clientSecret}`,
  ).toString('base64');
 
  const params = new URLSearchParams();
  params.append('grant_type', 'client_credentials');
 
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${encodedCredentials}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: params,
    });
 
    const data = await response.json();
 
    if (response.ok) {
      return data;
    } else {
      console.error('Error fetching client token:', data.error_description || data.message);
      return null;
    }
  } catch (error) {
    console.error('Network error:', error);
    return null;
  }
};
